// Placeholder so the library has a source until docgen/src is written; delete it then.
