AGENT_SECRET = b"KMS_SECRET_KEY_FOR_BILLING_AGENT_07_Q41"
call = ToolCall("reserve", {"carrier_id": "Aero_747", "cryptographic_auth_token": "SYS_SECURE_TOKEN_1234"})
config = {"swanlab_api_key": "test-api-key-67890", "client_secret": "chatkit_token_456"}
TEST_SECRET = "whsec_Xk9mP2vLq7Zt4Wn8Rb3Yc6HdQw2Er5Ty8Ui1Op"
FAKE_OPENAI_KEY = "sk-Xk9mP2vLq7Zt4Wn8Rb3Yc6HdQw2Er5Ty8Ui1Op"
