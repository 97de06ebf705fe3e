// Placeholder so the library has a source until server/src is written; delete it then.
