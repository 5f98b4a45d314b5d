// Package userdata holds what the stored features' XEP-0227 sections
// (module.UserData) share: Records, a section over one kind of
// storage.Records, so that a feature writes only how its records map to
// elements and back. It knows no feature's format; package portable
// writes the document, each feature its elements. Sections over other
// stores (the offline queue, the archive, the roster) implement
// module.UserData themselves.
package userdata
