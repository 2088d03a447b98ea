"""binanno's built-in recipes, registered through the same entry points as anyone's."""
