import requests
import json
import time

class FlowsyAIClient:
    def __init__(self, api_key, base_url="https://api.flowsyai.com"):
        self.api_key = api_key
        self.base_url = base_url
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json"
        }

    def create_workflow(self, workflow_data):
        response = requests.post(
            f"{self.base_url}/api/v1/workflows",
            headers=self.headers,
            json=workflow_data
        )
        return response.json()

    def execute_workflow(self, workflow_id, input_data):
        response = requests.post(
            f"{self.base_url}/api/v1/workflows/{workflow_id}/execute",
            headers=self.headers,
            json={"input_data": input_data, "async": True}
        )
        return response.json()

    def get_execution_status(self, execution_id):
        response = requests.get(
            f"{self.base_url}/api/v1/executions/{execution_id}",
            headers=self.headers
        )
        return response.json()

# Usage example
client = FlowsyAIClient("your_api_key")

# Create a content generation workflow
workflow = client.create_workflow({
    "name": "Blog Post Generator",
    "description": "Generate SEO-optimized blog posts",
    "workflow_data": {
        "nodes": [
            {
                "id": "input_1",
                "type": "input",
                "data": {"label": "Topic", "type": "text"}
            },
            {
                "id": "ai_1",
                "type": "ai_model",
                "data": {
                    "label": "Content Generator",
                    "model": "gpt-4",
                    "prompt": "Write a comprehensive blog post about: {input_1}"
                }
            },
            {
                "id": "output_1",
                "type": "output",
                "data": {"label": "Generated Post"}
            }
        ],
        "connections": [
            {"source": "input_1", "target": "ai_1"},
            {"source": "ai_1", "target": "output_1"}
        ]
    }
})

# Execute the workflow
execution = client.execute_workflow(workflow["id"], {
    "topic": "The Future of Artificial Intelligence"
})

# Monitor execution
while True:
    status = client.get_execution_status(execution["execution_id"])
    print(f"Status: {status['status']}")

    if status["status"] in ["completed", "failed"]:
        break

    time.sleep(2)

print("Final result:", status.get("output_data"))
