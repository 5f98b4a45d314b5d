// Command parley is the Parley XMPP server and its administration tool.
//
//	parley serve                      run the server
//	parley user add|passwd|del|list   manage accounts (also while the server runs)
//	parley config check               check a configuration file
//	parley version                    print version information
//
// Every command takes --config FILE, --data-dir DIR and --domain D (which
// override the file's data_dir and domains). The package owns the command
// line: parsing flags, reading passwords from the terminal, printing
// results and mapping errors to messages and the exit status. It owns no
// behaviour of its own: accounts are the account package's, configuration
// the config package's, the server the server package's.
package main
