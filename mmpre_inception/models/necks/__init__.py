from .last_stage_gap import LastStageGAP

__all__ = ['LastStageGAP']
