package main

import "os"

// minCorpusAccepted is the number of corpus files `policy check` accepted
// when last measured; the corpus test fails if support regresses below it.
const minCorpusAccepted = 25

func isCI() bool { return os.Getenv("CI") == "true" }
