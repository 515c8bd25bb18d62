from .cli import sapb1

if __name__ == "__main__":
    sapb1(prog_name="python -m mlc_sapb1_emulator")
