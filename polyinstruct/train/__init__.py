"""Fine-tuning: LoRA (peft) and full fine-tuning (optionally DeepSpeed ZeRO) through TRL's SFTTrainer.

One module per concept: `families` (LoRA targets per architecture), `budget` (batch arithmetic and
token budgets), `counters` (what a run saw: examples, tokens, padding), `selection` (which
checkpoint is kept), `preemption` (save on SIGTERM, resume on re-run), `efficiency` (tokens/s,
memory, MFU), `recipe` (setup -> train -> save), `launch` (one process per GPU through torchrun),
`sweep` (picking a learning rate), `merge` (LoRA folded into full weights).
"""
