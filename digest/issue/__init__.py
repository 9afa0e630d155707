"""Issue: stored articles → the week's issue (compose, duplicates, editing) → its email (render, message).

Takes articles from the store and the editor's edits; gives a composed issue, its rendered variants and
the message templates that delivery personalises. Link rewriting for click counts lives here too."""
