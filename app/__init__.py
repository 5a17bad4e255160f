"""The Textual app: the multiplexer UI, its key map and the command-line entry points.

Importing the package costs nothing: `ai-session list` and the other verbs load only the small
client (app.client); Textual comes with app.main (app.textual_env sets its settings first).
"""
