package all

import (
	// Each import registers its step types in init.
	_ "github.com/flowrun/flowrun/pkg/steps/basic"
	_ "github.com/flowrun/flowrun/pkg/steps/http"
	_ "github.com/flowrun/flowrun/pkg/steps/shell"
)
