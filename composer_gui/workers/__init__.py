"""Qt threading glue: runs ml / midi / audio jobs off the GUI thread; talks only through signals."""
