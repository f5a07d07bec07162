package ief

// The API connector provider: a user flow's API connector (identity.apiConnectors,
// B2C's request/response contract with continue, block page and validation
// error answers) as a step of the journey. B2C runs user flows as built-in
// policies; this is how Gatehouse's compiled user flows (identity/ief/userflows)
// call the connectors a flow names. Metadata Step is the connector step
// (PostAttributeCollection, PreTokenIssuance, PostFederationSignup) and
// Connector the connector's name.
func init() {
	register(&Provider{
		Name:     "APIConnector",
		Handler:  APIConnectorHandler,
		Metadata: []string{"Step", "Connector"},
		Check: func(c *checker, p *Policy, tp *TechnicalProfile) {
			if tp.Metadata["Step"] == "" || tp.Metadata["Connector"] == "" {
				c.add(tp.Pos, "technical profile %s: an API connector profile names its Step and Connector in Metadata", tp.ID)
			}
		},
	})
}

// APIConnectorHandler is the Proprietary handler of API connector profiles.
const APIConnectorHandler = "Gatehouse.ApiConnectorProvider"
