package mask

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestMaskerString(t *testing.T) {
	const secret = `s3cr<t"&pa ss/wörd`
	m := New(secret, "line-one\nline-two")
	jsonHTML, _ := json.Marshal(secret)
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "token is " + secret + ".", "token is ***."},
		{"twice", secret + secret, "******"},
		{"json escaped", `{"t":` + string(jsonHTML) + `}`, `{"t":"***"}`},
		{"json without html escaping", `{"t":"s3cr<t\"&pa ss/wörd"}`, `{"t":"***"}`},
		{"query escaped", "q=" + url.QueryEscape(secret), "q=***"},
		{"path escaped", "/p/" + url.PathEscape(secret), "/p/***"},
		// The last character mixes the secret's last bits with the padding.
		{"base64", "Basic " + base64.StdEncoding.EncodeToString([]byte(secret)), "Basic ***A=="},
		{"base64 inside user:secret", base64.StdEncoding.EncodeToString([]byte("u:" + secret)), "*"},
		{"multi-line secret, one line", "got line-two", "got ***"},
		{"multi-line secret, whole", "x line-one\nline-two y", "x *** y"},
		{"nothing secret", "hello", "hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := m.String(tc.in)
			if tc.name == "base64 inside user:secret" {
				// The encoded "u:" prefix stays, the secret's part goes.
				if !strings.Contains(got, Replacement) || strings.Contains(got, base64Aligned(secret, 2)) {
					t.Fatalf("got %q; want the secret's base64 masked", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestMaskerShortSecrets(t *testing.T) {
	m := New()
	for _, s := range []string{"", "a", "ab", "abc"} {
		if m.Add(s) {
			t.Errorf("Add(%q) = true; want false: too short to mask in text", s)
		}
	}
	if !m.Empty() {
		t.Fatal("masker with only short secrets masks something")
	}
	if got := m.String("a cab abc"); got != "a cab abc" {
		t.Errorf("got %q; short secrets must not shred text", got)
	}
	if !m.Add("abcd") {
		t.Error("Add(abcd) = false; want true")
	}
	if !New().Add("wörd") {
		t.Error("four characters of more bytes are long enough")
	}
}

func TestMaskerLongestFirst(t *testing.T) {
	m := New("abcd", "abcdefgh")
	if got := m.String("abcdefgh"); got != "***" {
		t.Errorf("got %q; want the longer secret masked whole", got)
	}
}

func TestMaskerValue(t *testing.T) {
	m := New("hunter22", "12345678")
	in := map[string]any{
		"hunter22": []any{"pw hunter22", 12345678, 7, true, map[string]any{"n": 3.5}},
	}
	got := m.Value(in)
	b, _ := json.Marshal(got)
	if want := `{"***":["pw ***","***",7,true,{"n":3.5}]}`; string(b) != want {
		t.Errorf("got %s; want %s", b, want)
	}
	if _, ok := in["hunter22"]; !ok || in["hunter22"].([]any)[0] != "pw hunter22" {
		t.Error("Value modified its argument")
	}
}

func TestMaskerConcurrentAdd(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); m.Add(strings.Repeat(string(rune('a'+i)), 5)) }()
		go func() { defer wg.Done(); _ = m.String("aaaaa bbbbb") }()
	}
	wg.Wait()
	if got := m.String("aaaaa hhhhh"); got != "*** ***" {
		t.Errorf("got %q", got)
	}
}

func TestNilMasker(t *testing.T) {
	var m *Masker
	if got := m.String("https://h/?token=abc plain"); got != "https://h/?token=*** plain" {
		t.Errorf("got %q", got)
	}
	if !m.Empty() || m.Contains([]byte("plain")) {
		t.Error("nil masker claims to mask")
	}
}

func TestContains(t *testing.T) {
	m := New("hunter22")
	for in, want := range map[string]bool{
		"plain":             false,
		"pw hunter22":       true,
		"see http://x/":     true,
		`"aHVudGVyMjI="`:    true,
		"hunter2 hunter 22": false,
	} {
		if got := m.Contains([]byte(in)); got != want {
			t.Errorf("Contains(%q) = %v; want %v", in, got, want)
		}
	}
}

func TestKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	k1, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %v; want 0600", mode)
	}
	k2, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum := k1.Sum("hunter22")
	if sum != k2.Sum("hunter22") || !k2.Equal(sum, "hunter22") {
		t.Error("the key changed between loads")
	}
	if k1.Equal(sum, "hunter23") {
		t.Error("different values have equal sums")
	}
	if strings.Contains(sum, "hunter22") || !strings.HasPrefix(sum, "hmac-sha256:") {
		t.Errorf("sum %q", sum)
	}
	other, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if other.Sum("hunter22") == sum {
		t.Error("two state directories share a key")
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir); err == nil {
		t.Error("a truncated key file was accepted")
	}
}

func TestLoadKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	keys := make([]Key, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if string(k) != string(keys[0]) {
			t.Fatal("concurrent LoadKey calls got different keys")
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d files; want the key alone", len(entries))
	}
}

func TestKeyInputs(t *testing.T) {
	k, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"token": "hunter22", "n": 3}
	got := k.Inputs(in, func(name string) bool { return name == "token" })
	if got["n"] != 3 || !k.Equal(got["token"].(string), "hunter22") {
		t.Errorf("got %v", got)
	}
	if in["token"] != "hunter22" {
		t.Error("Inputs modified its argument")
	}
}

// TestValueCopiesOnlyWhatChanges: masking a value that holds no secret
// and no URL returns it as it is, so a report of 100,000 results is not
// copied; where a secret is deep inside, the path to it is copied and the
// original is left as it was.
func TestValueCopiesOnlyWhatChanges(t *testing.T) {
	m := New()
	m.Add("s3cret-value")
	clean := map[string]any{"status": 200, "body": map[string]any{"list": []any{"a", 1.5, true, nil}}}
	out, changed := m.ValueChanged(clean)
	if changed || fmt.Sprintf("%p", out) != fmt.Sprintf("%p", clean) {
		t.Errorf("a value without secrets came back changed (%v) or copied", changed)
	}
	dirty := map[string]any{"status": 200, "body": map[string]any{"list": []any{"a", "s3cret-value"}}, "s3cret-value": 1}
	out, changed = m.ValueChanged(dirty)
	want := map[string]any{"status": 200, "body": map[string]any{"list": []any{"a", "***"}}, "***": 1}
	if !changed || !reflect.DeepEqual(out, want) {
		t.Errorf("got %v (changed %v); want %v", out, changed, want)
	}
	if dirty["body"].(map[string]any)["list"].([]any)[1] != "s3cret-value" || dirty["s3cret-value"] != 1 {
		t.Errorf("the original was modified: %v", dirty)
	}
}

// TestContainsJSONForms: Contains finds a form of a secret in JSON text
// however JSON escapes it — the '&' of its URL escape as \u0026, a quote
// in one of its lines as \" — so that a value judged by its JSON is
// masked wherever its decoded strings hold one; HasSecret does the same
// and leaves URLs alone.
func TestContainsJSONForms(t *testing.T) {
	m := New("pass&word!", "user=\"alice-x\"\npass=hunter22")
	for _, text := range []string{
		`{"a":"/u/pass\u0026word%21"}`,
		`{"a":"/u/pass&word%21"}`,
		`{"a":"user=\"alice-x\""}`,
	} {
		if !m.Contains([]byte(text)) || !m.HasSecret([]byte(text)) {
			t.Errorf("Contains %v, HasSecret %v for %s; want both", m.Contains([]byte(text)), m.HasSecret([]byte(text)), text)
		}
	}
	if m.HasSecret([]byte(`{"u":"https://user:pw@example.test/"}`)) {
		t.Error("HasSecret took a URL for a secret")
	}
	if got := m.Value(json.RawMessage(`"pass&word%21"`)); got != Replacement {
		t.Errorf("Value of the URL escape as JSON = %v; want %q", got, Replacement)
	}
}

// TestJSONLineMasked: a line of a multi-line secret holding quotes is
// masked in text where a program printed it inside JSON, its quotes
// escaped.
func TestJSONLineMasked(t *testing.T) {
	m := New("user=\"admin-x\"\npass=\"Kx9Qv-p4ss\"")
	if got := m.String(`{"line": "pass=\"Kx9Qv-p4ss\""}`); strings.Contains(got, "Kx9Qv") {
		t.Errorf("String = %s; want the line masked", got)
	}
}

// TestValueKeysMaskedAlike: when two keys of a map mask to the same text,
// the value kept is the same in every run: the last key's in sorted order.
func TestValueKeysMaskedAlike(t *testing.T) {
	m := New("pass&word!")
	in := map[string]any{"pass&word!": 1, "pass&word%21": 2, "other": 3}
	typed := map[string]string{"pass&word!": "1", "pass&word%21": "2", "other": "3"}
	for range 50 {
		got := m.Value(in).(map[string]any)
		if want := map[string]any{Replacement: 2, "other": 3}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Value = %v; want %v", got, want)
		}
		gotTyped := m.Value(typed).(map[string]any)
		if want := map[string]any{Replacement: "2", "other": "3"}; !reflect.DeepEqual(gotTyped, want) {
			t.Fatalf("Value of a typed map = %v; want %v", gotTyped, want)
		}
	}
}

// TestCopy: a copy masks the secrets its masker had when copied, and
// neither learns the other's later secrets.
func TestCopy(t *testing.T) {
	m := New("first-secret")
	c := m.Copy()
	m.Add("later-secret")
	c.Add("copy-secret")
	if got := c.String("first-secret later-secret copy-secret"); got != Replacement+" later-secret "+Replacement {
		t.Errorf("copy masks %q", got)
	}
	if got := m.String("first-secret later-secret copy-secret"); got != Replacement+" "+Replacement+" copy-secret" {
		t.Errorf("masker masks %q", got)
	}
	if !New().Copy().Empty() || !(*Masker)(nil).Copy().Empty() {
		t.Error("a copy of no secrets masks some")
	}
}
