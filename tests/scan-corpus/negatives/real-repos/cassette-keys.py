HEADERS = {'google-api-key': 'AIzaFakeApiKey123456'}
session_token = "FwoGZXIvYXdzEFAKE1234567890SESSIONTOKEN"
