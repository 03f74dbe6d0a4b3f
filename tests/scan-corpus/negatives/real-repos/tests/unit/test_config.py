ENV = {
    "APP_ADMIN_SECRET": "4fd8ea0caef4f6f87ca5a74912d51baf",
    "APP_SECRET": "57d2e6c8fda06190411e9bd342747ee8",
}
