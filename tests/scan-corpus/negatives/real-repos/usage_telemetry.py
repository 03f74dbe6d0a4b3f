"""Anonymous usage statistics (opt out with ACME_DO_NOT_TRACK=1)."""
TOKEN = "s2s.65c238684eef6b33714920.a01fdb0f5bcc8430f76a07839c"
WRITE_KEY = "41555664890d49d958d7a8563a6adda3"
