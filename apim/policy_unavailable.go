package apim

// Policies that exist in APIM but cannot run here (AzureOnly) or are not
// implemented yet (Unsupported). Registering them turns "unknown policy" into
// a precise load error; none is ever silently skipped.

func init() {
	azure := map[string]string{
		"log-to-eventhub":                    "it needs an Azure Event Hubs logger",
		"emit-metric":                        "it writes to Azure Monitor custom metrics",
		"azure-openai-token-limit":           "it is tied to Azure OpenAI backends",
		"azure-openai-emit-token-metric":     "it is tied to Azure OpenAI backends and Azure Monitor",
		"azure-openai-semantic-cache-lookup": "it needs Azure OpenAI embeddings and Azure Redis Enterprise",
		"azure-openai-semantic-cache-store":  "it needs Azure OpenAI embeddings and Azure Redis Enterprise",
		"llm-token-limit":                    "it needs the Azure AI model inference integration",
		"llm-emit-token-metric":              "it writes to Azure Monitor custom metrics",
		"llm-semantic-cache-lookup":          "it needs Azure embeddings and Azure Redis Enterprise",
		"llm-semantic-cache-store":           "it needs Azure embeddings and Azure Redis Enterprise",
		"llm-content-safety":                 "it calls Azure AI Content Safety",
		"invoke-dapr-binding":                "it needs the Dapr sidecar of APIM's self-hosted gateway on Kubernetes",
		"publish-to-dapr":                    "it needs the Dapr sidecar of APIM's self-hosted gateway on Kubernetes",
		"set-graphql-resolver":               "it is part of APIM's synthetic GraphQL APIs",
		"http-data-source":                   "it is part of APIM's synthetic GraphQL APIs",
		"cosmosdb-data-source":               "it is part of APIM's synthetic GraphQL APIs",
		"get-authorization-context":          "it reads the APIM credential manager",
	}
	for name, why := range azure {
		Register(Spec{Name: name, AzureOnly: why})
	}
	todo := map[string]string{
		"cache-remove":             "response caching is not implemented",
		"validate-graphql-request": "GraphQL APIs are not supported",
		"validate-odata-request":   "OData APIs are not supported",
		"xsl-transform":            "XSLT is not implemented",
		"proxy":                    "routing backend calls through an HTTP proxy is configured on the gateway, not per policy",
	}
	for name, why := range todo {
		Register(Spec{Name: name, Unsupported: why})
	}
}
