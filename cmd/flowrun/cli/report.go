package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/flowrun/flowrun/internal/privfile"
	"github.com/flowrun/flowrun/pkg/exec"
)

// writeReport writes the run report, masked already, to file: a
// self-contained HTML page when the name ends in .html or .htm, JSON
// otherwise. The file is readable by its owner only.
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
	return privfile.WriteFile(file, buf.Bytes())
}
