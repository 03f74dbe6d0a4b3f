export function ChatWidget() {
  useEffect(() => {
    window.chatwootSDK.run({
      websiteToken: 'Qm7vXk2pLr9TzW4nYc8b',
      baseUrl: 'https://app.chatwoot.example',
    });
  }, []);
  return null;
}
