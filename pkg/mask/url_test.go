package mask

import (
	"bytes"
	"net/url"
	"testing"
)

func TestIsCredentialName(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "TOKEN": true, "access_token": true, "api_key": true, "apikey": true,
		"key": true, "secret": true, "password": true, "passwd": true, "pwd": true,
		"signature": true, "sig": true, "auth": true, "credential": true,
		"x_api_key": true, "X-Amz-Signature": true, "X-Amz-Credential": true, "accessToken": true,
		"client.secret": true, "api%5Fkey": true,
		"monkey": false, "oauth": false, "config": false, "page": false, "q": false,
		"tokens": false, "keyword": false, "": false,
	} {
		if got := IsCredentialName(name); got != want {
			t.Errorf("IsCredentialName(%q) = %v; want %v", name, got, want)
		}
	}
}

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET https://h/x?api_key=abc&page=2: 404", "GET https://h/x?api_key=***&page=2: 404"},
		{"https://user:pa55@h:8080/p", "https://user:***@h:8080/p"},
		{"https://user@h/p", "https://user@h/p"},
		{"https://u:p@h/?Token=1#access_token=zz&state=s", "https://u:***@h/?Token=***#access_token=***&state=s"},
		{`curl "http://127.0.0.1/?x_api_key=k1" and http://b/?sig=s2`, `curl "http://127.0.0.1/?x_api_key=***" and http://b/?sig=***`},
		{"no url here: a://", "no url here: a://"},
		{"://odd ?token=1", "://odd ?token=1"},
		{"s3://bucket/key?X-Amz-Signature=ab%2Fcd&X-Amz-Date=1", "s3://bucket/key?X-Amz-Signature=***&X-Amz-Date=1"},
		{"https://h/?token=", "https://h/?token="},
		{"https://h/a@b/?q=1", "https://h/a@b/?q=1"},
	} {
		if got := URLs(tc.in); got != tc.want {
			t.Errorf("URLs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestURL(t *testing.T) {
	u, _ := url.Parse("https://me:hunter22@h/p?key=k&q=a+b")
	if got, want := URL(u), "https://me:***@h/p?key=***&q=a+b"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if URL(nil) != "" {
		t.Error("URL(nil) is not empty")
	}
}

// TestHasURL holds hasURL to bytes.Contains(b, "://") over every short
// text of its interesting bytes and over JSON-like text.
func TestHasURL(t *testing.T) {
	alphabet := []byte(":/a\"")
	var texts [][]byte
	var build func(prefix []byte)
	build = func(prefix []byte) {
		texts = append(texts, prefix)
		if len(prefix) == 6 {
			return
		}
		for _, c := range alphabet {
			build(append(append([]byte(nil), prefix...), c))
		}
	}
	build(nil)
	texts = append(texts, []byte(`{"a":1,"b":"x:y/z","c":"10:27:46"}`), []byte(`{"u":"https://h/p"}`), []byte(`"a:/b//c"`))
	for _, b := range texts {
		if got, want := hasURL(b), bytes.Contains(b, []byte("://")); got != want {
			t.Errorf("hasURL(%q) = %v, want %v", b, got, want)
		}
	}
}
