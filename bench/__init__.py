"""bench: run echo experiments over many seeds, store tidy results, report them."""
