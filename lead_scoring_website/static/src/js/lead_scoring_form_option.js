/** @odoo-module **/
/**
 * "Lead scoring" options of a website form. The points live on the server
 * (lead.score.form.setting): the form only carries the setting's id, which
 * the page signs when it is rendered.
 */

import options from "@web_editor/js/editor/snippets.options";

const MODEL = "lead.score.form.setting";
// A new setting scores once per contact, as on the server.
const DEFAULTS = {
    operation: "off",
    value: 10,
    note: "",
    once: true,
    repeat_hours: 24,
    group_id: false,
    model_name: false,
};

options.registry.LeadScoringFormOption = options.Class.extend({
    init() {
        this._super(...arguments);
        this.orm = this.bindService("orm");
    },
    /**
     * @override
     */
    async willStart() {
        // _super only exists until the first await.
        const started = this._super(...arguments);
        this.setting = {...DEFAULTS};
        const settingId = this._settingId();
        if (settingId) {
            const saved = await this.orm.call(MODEL, "editor_read", [settingId]);
            Object.assign(this.setting, saved || {});
        }
        return started;
    },
    /**
     * A copy of a form starts without scoring: two forms never share a setting.
     *
     * @override
     */
    onClone() {
        this._forgetSetting();
    },
    /**
     * A form dropped from a saved snippet may carry another form's setting.
     *
     * @override
     */
    onBuilt() {
        this._forgetSetting();
    },
    /**
     * The form's action may have changed since its setting was saved.
     *
     * @override
     */
    async cleanForSave() {
        if (this._settingId() && this.setting.model_name !== this._modelName()) {
            await this._save({});
        }
    },

    //--------------------------------------------------------------------------
    // Options
    //--------------------------------------------------------------------------

    leadScoringOperation(previewMode, widgetValue) {
        return this._save({operation: widgetValue});
    },
    leadScoringValue(previewMode, widgetValue) {
        return this._save({value: widgetValue});
    },
    leadScoringNote(previewMode, widgetValue) {
        return this._save({note: widgetValue});
    },
    leadScoringRepeat(previewMode, widgetValue) {
        return this._save({once: widgetValue === "once"});
    },
    leadScoringHours(previewMode, widgetValue) {
        return this._save({repeat_hours: widgetValue});
    },
    leadScoringGroup(previewMode, widgetValue) {
        return this._save({group_id: parseInt(widgetValue) || false});
    },

    //--------------------------------------------------------------------------
    // Private
    //--------------------------------------------------------------------------

    /**
     * @override
     */
    _computeWidgetState(methodName, params) {
        switch (methodName) {
            case "leadScoringOperation":
                return this.setting.operation;
            case "leadScoringValue":
                return this._typing("lead_scoring_value_opt") ?? String(this.setting.value);
            case "leadScoringNote":
                return this._typing("lead_scoring_note_opt") ?? this.setting.note;
            case "leadScoringRepeat":
                return this.setting.once ? "once" : "every";
            case "leadScoringHours":
                return this._typing("lead_scoring_hours_opt") ?? String(this.setting.repeat_hours);
            case "leadScoringGroup":
                return String(this.setting.group_id || "");
        }
        return this._super(...arguments);
    },
    /**
     * The score groups to choose from, as buttons of their select.
     *
     * @override
     */
    async _renderCustomXML(uiFragment) {
        const select = uiFragment.querySelector("we-select[data-name='lead_scoring_group_opt']");
        const groups = await this.orm.call(MODEL, "editor_groups", []);
        for (const [id, name] of groups) {
            const button = document.createElement("we-button");
            button.dataset.leadScoringGroup = String(id);
            button.textContent = name;
            select.appendChild(button);
        }
    },
    /**
     * What is being typed in one of the inputs, if it has the focus: the
     * options are redrawn when an earlier change is saved, which must not
     * wipe out what the designer is typing meanwhile.
     */
    _typing(name) {
        const input = this.el && this.el.querySelector(`we-input[data-name='${name}'] input`);
        return input && input.ownerDocument.activeElement === input ? input.value : null;
    },
    _settingId() {
        return parseInt(this.$target[0].dataset.leadScoringSettingId) || false;
    },
    /**
     * The model the form posts to, as the form's public script computes it.
     */
    _modelName() {
        const dataset = this.$target[0].dataset;
        return dataset.force_action || dataset.model_name;
    },
    _forgetSetting() {
        delete this.$target[0].dataset.leadScoringSettingId;
        this.$target[0].querySelectorAll("input[name='lead_scoring_token']").forEach((el) => el.remove());
        this.setting = {...DEFAULTS};
    },
    async _save(changes) {
        const modelName = this._modelName();
        const settingId = this._settingId();
        // A new setting is made of all the options; an existing one only gets
        // what changed, so that a save answered late cannot undo a newer one
        // (the operation still lets the server copy a setting of another website).
        const {operation, value, note, once, repeat_hours, group_id} = {
            ...this.setting,
            ...changes,
        };
        const values = settingId
            ? {operation, ...changes}
            : {operation, value, note, once, repeat_hours, group_id};
        const previous = this.setting;
        this.setting = {...this.setting, ...changes};
        let savedId;
        try {
            savedId = await this.orm.call(MODEL, "editor_save", [
                settingId,
                modelName,
                {...values, page_url: this.$target[0].ownerDocument.defaultView.location.pathname},
            ]);
        } catch (error) {
            // Refused (e.g. more points than a designer may give): the
            // options show what is saved, and the server's message is shown.
            this.setting = previous;
            throw error;
        }
        this.setting.model_name = modelName;
        if (savedId && savedId !== this._settingId()) {
            this.$target[0].dataset.leadScoringSettingId = savedId;
        }
    },
});
