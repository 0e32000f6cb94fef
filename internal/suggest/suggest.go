// Package suggest finds the known name closest to a misspelt one, for
// "did you mean" hints in diagnostics.
package suggest

// Closest returns the candidate nearest to name by edit distance, or "" when
// none is close enough to be a likely typo (more than a third of the name
// would have to change). Ties go to the earlier candidate. When no
// candidate is that close, a name of three or more letters that
// abbreviates one (its letters in order, from the same first letter:
// cnt for count) suggests the shortest such candidate.
func Closest(name string, candidates []string) string {
	if s := closest(name, candidates); s != "" {
		return s
	}
	return abbreviated(name, candidates)
}

func abbreviated(name string, candidates []string) string {
	if len(name) < 3 {
		return ""
	}
	best := ""
	for _, c := range candidates {
		if c != name && isAbbreviation(name, c) && (best == "" || len(c) < len(best)) {
			best = c
		}
	}
	return best
}

// isAbbreviation reports whether a's letters appear in b in order,
// starting with b's first letter.
func isAbbreviation(a, b string) bool {
	if len(a) >= len(b) || a[0] != b[0] {
		return false
	}
	j := 0
	for i := 0; i < len(b) && j < len(a); i++ {
		if a[j] == b[i] {
			j++
		}
	}
	return j == len(a)
}

func closest(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := distance(name, c)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(1, (len(name)+2)/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// distance is the optimal string alignment distance: Levenshtein plus
// transposition of neighbours, the commonest typo.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
