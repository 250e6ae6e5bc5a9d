"""What only the tests and benchmarks use: helpers, and the sandbox as a child process."""
