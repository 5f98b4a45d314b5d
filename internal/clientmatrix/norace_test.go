//go:build !race

package clientmatrix

const raceBuild = false
