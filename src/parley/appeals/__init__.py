"""Appeals (DSA Art. 20): an author contests a decision once; another person decides."""
