SUPABASE_PUBLIC_API_KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJvbGUiOiJhbm9uIn0.Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5kS2uV7wX9yA"
tiles = "https://api.mapbox.com/styles/v1/mapbox/streets-v11/tiles/{z}/{x}/{y}?access_token=pk.eyJ1IjoiYWNtZSIsImEiOiJjbHgyZ2w5MDEifQ.Kx9mZ2a7rT3qLpW8vN4bYc"
POSTHOG = {"apiKey": "phc_Q7kLm2Xv9pRt4Wn8Bz3Yc6HdQw2Er5Ty8Ui1OpLk"}
