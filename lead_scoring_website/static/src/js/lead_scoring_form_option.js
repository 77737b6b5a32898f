/** @odoo-module **/
/**
 * "Lead scoring" options of a website form. The points live on the server
 * (lead.score.form.setting): the form only carries the setting's id, which
 * the page signs when it is rendered.
 */

import options from "@web_editor/js/editor/snippets.options";

const MODEL = "lead.score.form.setting";
// A new setting scores once per contact, as on the server.
const DEFAULTS = {operation: "off", value: 10, note: "", once: true, model_name: false};

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
    leadScoringOnce(previewMode, widgetValue) {
        return this._save({once: !!widgetValue});
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
                return String(this.setting.value);
            case "leadScoringNote":
                return this.setting.note;
            case "leadScoringOnce":
                return this.setting.once ? "true" : "";
        }
        return this._super(...arguments);
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
        const {operation, value, note, once} = {...this.setting, ...changes};
        const values = settingId ? {operation, ...changes} : {operation, value, note, once};
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
