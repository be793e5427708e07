"""Builds what students get (assignment/) from the one source of the homework (solutions/)."""
