// Keyboard routing: a field with focus keeps its keys; then the view gets the first refusal;
// then the core's keys. Enter never re-clicks the button last clicked with the mouse.

const FIELDS = ["INPUT", "TEXTAREA", "SELECT"];

export function installKeys({ view, actions }) {
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (target.isContentEditable || FIELDS.includes(target.tagName))) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      actions.save();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const handle = view();
    if (handle && handle.key && handle.key(event)) {
      event.preventDefault();
      return;
    }
    if (event.key === "Enter" || (event.key === " " && target && target.tagName === "BUTTON")) {
      event.preventDefault();  // a focused button must not answer again; space still ignores below
    }
    if (event.repeat) { event.preventDefault(); return; }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const action = { a: "accept", x: "reject", " ": "ignore", Backspace: "undo", "?": "help" }[key];
    if (!action) return;
    event.preventDefault();
    actions[action]();
  });
}

// After a mouse click a button keeps focus, and the browser would click it again on Enter.
export function clickOnly(button, handler) {
  button.addEventListener("click", (event) => {
    button.blur();
    handler(event);
  });
}
