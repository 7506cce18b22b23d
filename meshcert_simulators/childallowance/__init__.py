"""The reference child-allowance (児童手当) system: an inquirer of the public service mesh."""
