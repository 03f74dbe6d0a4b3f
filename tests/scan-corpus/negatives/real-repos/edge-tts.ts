// Fixture: held-out 24 (the read-aloud client every Edge browser ships; a published constant).
export class EdgeSpeech {
  static TRUSTED_CLIENT_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4";
  static VOICES_URL = `https://speech.platform.bing.com/consumer/speech/synthesize/readaloud/voices/list?trustedclienttoken=${EdgeSpeech.TRUSTED_CLIENT_TOKEN}`;
}
