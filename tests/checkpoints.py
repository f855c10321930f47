"""Session fixtures that build tiny Intern-S1 checkpoint directories (owned by the processor engineer)."""
