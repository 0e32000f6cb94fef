package spec

// remote reads a block's `remote:`: false keeps the block's items in the
// process that runs the workflow even when the run sends blocks to a
// cluster (flowrun apply --nats), which suits cheap blocks (set, log)
// whose items cost less than a trip to a worker. The default, true, lets
// the run decide; without a cluster every block runs in-process anyway.
func (p *loader) remote(b *Parallel, f map[string]field) {
	v, ok := f["remote"]
	if !ok {
		return
	}
	n := deref(v.value)
	var remote bool
	if n.Tag != "!!bool" || n.Decode(&remote) != nil {
		p.errorf(n.Line, n.Column, "write true or false", "remote must be true or false, not %s", kindName(n))
		return
	}
	b.Local = !remote
}
