async function uploadAndProcessFile(file, apiKey) {
    const formData = new FormData();
    formData.append('file', file);
    formData.append('process_immediately', 'true');
    formData.append('description', 'Document for analysis');

    try {
        const response = await fetch('https://api.flowsyai.com/api/v1/files/upload', {
            method: 'POST',
            headers: {
                'Authorization': `Bearer ${apiKey}`
            },
            body: formData
        });

        const result = await response.json();
        console.log('File uploaded:', result);

        // Monitor processing status
        if (result.status === 'processing') {
            await monitorFileProcessing(result.id, apiKey);
        }

        return result;
    } catch (error) {
        console.error('Upload failed:', error);
        throw error;
    }
}

async function monitorFileProcessing(fileId, apiKey) {
    while (true) {
        const response = await fetch(`https://api.flowsyai.com/api/v1/files/${fileId}`, {
            headers: {
                'Authorization': `Bearer ${apiKey}`
            }
        });

        const fileInfo = await response.json();
        console.log(`Processing status: ${fileInfo.status}`);

        if (fileInfo.status === 'processed') {
            console.log('Processing completed:', fileInfo.processing_result);
            break;
        } else if (fileInfo.status === 'failed') {
            console.error('Processing failed:', fileInfo.processing_result);
            break;
        }

        await new Promise(resolve => setTimeout(resolve, 2000));
    }
}
