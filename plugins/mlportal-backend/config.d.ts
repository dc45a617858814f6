export interface Config {
  /** Configuration shared by the mlportal Go server and its Backstage plugins. */
  mlportal?: {
    server?: {
      /**
       * The URL the mlportal Go API is reached at; used by the Backstage plugin
       * when mlportal.backstage.baseUrl is not set.
       */
      baseUrl?: string;
    };
    /** Settings of the mlportal Backstage backend plugin. */
    backstage?: {
      /**
       * The URL of the mlportal Go API as the Backstage backend reaches it,
       * e.g. http://mlportal:8080. Defaults to mlportal.server.baseUrl, then
       * http://localhost:8080.
       */
      baseUrl?: string;
      /**
       * The Ed25519 private key (PKCS#8 PEM) the plugin signs the calling
       * principal's short-lived token with. Its public key must be listed in
       * mlportal.auth.backstage.publicKeys of the Go server.
       * @visibility secret
       */
      privateKey: string;
      /** Optional key id, sent as the `kid` header of every token. */
      keyId?: string;
    };
  };
}
