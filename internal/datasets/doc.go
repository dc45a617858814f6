// Package datasets makes data a first-class part of mlportal's lineage:
// datasets registered by URI and content hash, with their schema, row count
// and profile (per-column nulls, distinct values, min and max; duplicate
// rows), numbered in versions (the same content is the same version), and a
// quality report that checks the profile against the dataExpectations of
// the project's lifecycle template.
//
// It also matches a run's logged inputs to registered versions (by content
// hash, then by URI), and refuses, as the registry's DatasetGate, a model
// version trained on a version whose report failed. ProfileCSV computes a
// profile by streaming a CSV file, for the CLI.
//
// It does not read the data itself from remote URIs, store it, or run
// checks beyond what the template declares; it holds no SQL or HTTP.
package datasets
