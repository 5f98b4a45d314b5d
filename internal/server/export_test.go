package server

// WatchCertificates and CertStamp are the certificate watcher's parts, for
// a test that runs it with its own interval.
var (
	WatchCertificates = (*Server).watchCertificates
	CertStamp         = (*Server).certStamp
)
