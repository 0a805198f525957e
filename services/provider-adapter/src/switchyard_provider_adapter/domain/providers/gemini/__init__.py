"""Google Gemini (AI Studio and Vertex AI): requests (request.py), answers and streams
(answers.py), errors (errors.py), the two providers (provider.py)."""
