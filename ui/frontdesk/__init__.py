"""Front desk: find, register and edit patients."""
