module.exports = {
  themeConfig: {
    algolia: {
      appId: 'KX2M1Q9ZT4',
      apiKey: '9e7182e691ee4e3ee65bc047eb20d8b9',
      indexName: 'acme-docs',
    },
  },
};
