# Install layout, Debian's: binaries in bin/, man pages in share/man/man1, and
# the generated, committed completion scripts where each shell looks for them.
# Component "docs" holds the man pages and completions, so a test can install
# just those into a DESTDIR.

set(DE_INSTALL_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
  CACHE STRING "Where bash-completion loads completions on demand")
# Debian's zsh searches /usr/local/share/zsh/site-functions and
# /usr/share/zsh/vendor-completions; a distribution package sets the latter.
set(DE_INSTALL_ZSH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/zsh/site-functions"
  CACHE STRING "Where zsh finds completion functions (on $fpath)")
set(DE_INSTALL_FISH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d"
  CACHE STRING "Where fish loads vendor completions")

install(FILES ${PROJECT_SOURCE_DIR}/man/de-cli.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT docs)
install(FILES ${PROJECT_SOURCE_DIR}/man/de-server.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT docs)
install(FILES ${PROJECT_SOURCE_DIR}/completions/de-cli.bash
  DESTINATION ${DE_INSTALL_BASH_COMPLETION_DIR} RENAME de-cli COMPONENT docs)
install(FILES ${PROJECT_SOURCE_DIR}/completions/_de-cli
  DESTINATION ${DE_INSTALL_ZSH_COMPLETION_DIR} COMPONENT docs)
install(FILES ${PROJECT_SOURCE_DIR}/completions/de-cli.fish
  DESTINATION ${DE_INSTALL_FISH_COMPLETION_DIR} COMPONENT docs)
