package cli

// ParseGPUQuotaForTest exposes parseGPUQuota to the external tests.
var ParseGPUQuotaForTest = parseGPUQuota
