package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowrun/flowrun/pkg/exec"
)

// writeReport writes the run report to file: a self-contained HTML page
// when the name ends in .html or .htm, JSON otherwise.
func writeReport(file string, rep *exec.Report) error {
	var buf bytes.Buffer
	switch strings.ToLower(filepath.Ext(file)) {
	case ".html", ".htm":
		if err := writeHTMLReport(&buf, rep); err != nil {
			return err
		}
	default:
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}
