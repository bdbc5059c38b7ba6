function connectToWorkflowUpdates(workflowId, apiKey) {
    const ws = new WebSocket(`wss://api.flowsyai.com/api/v1/ws/workflows/${workflowId}?token=${apiKey}`);

    ws.onopen = function(event) {
        console.log('Connected to workflow updates');
    };

    ws.onmessage = function(event) {
        const data = JSON.parse(event.data);

        switch(data.type) {
            case 'execution_update':
                console.log(`Execution ${data.execution_id}: ${data.status} (${data.progress}%)`);
                updateProgressBar(data.progress);
                break;

            case 'execution_completed':
                console.log('Execution completed:', data.output_data);
                displayResults(data.output_data);
                break;

            case 'execution_failed':
                console.error('Execution failed:', data.error);
                showError(data.error);
                break;
        }
    };

    ws.onerror = function(error) {
        console.error('WebSocket error:', error);
    };

    ws.onclose = function(event) {
        console.log('WebSocket connection closed');
        // Implement reconnection logic if needed
    };

    return ws;
}
