"""AWS Bedrock: chat through Converse (converse.py, answers.py, stream.py), embeddings through
InvokeModel (embeddings.py), SigV4 signing (sigv4.py), errors (errors.py); the provider in
provider.py says where each call goes and how it is authorized."""
