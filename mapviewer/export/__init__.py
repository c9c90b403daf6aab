"""Qt-free exports: the print figure and animations."""
