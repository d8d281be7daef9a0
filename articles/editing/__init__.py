"""The one gate every change of spans goes through: where a change lands, whether it may, the verbs."""
