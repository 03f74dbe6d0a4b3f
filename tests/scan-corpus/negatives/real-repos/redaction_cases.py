"""Inputs of the redaction tests: each must come out masked."""
CASES = {
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "aws_cli_output": '{"versionToken": "f3a9c2e17b5d48e6a0c9d2b7e4f1a8c3f3a9c2e1", "name": "sales"}',
}
