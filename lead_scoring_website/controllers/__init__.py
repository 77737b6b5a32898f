from . import form
