# Installs man pages and shell completions where Debian puts them (owned by the docs/completion work).
